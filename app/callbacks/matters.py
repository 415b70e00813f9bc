"""One call, several matters: the call variables that carry a person's other open callbacks.

The dialer writes them when it places a call for a number with several due callbacks; the flows
branch on `matters` to say so, and the `next_matter` action (app/callbacks/line.py) takes the
carried callbacks into the call in turn.
"""

from __future__ import annotations

#: The callbacks a call carries besides its own, in the order they are asked (ids as text).
CARRIED = "carried_callbacks"
#: "several" when the call carries other matters: the flows say so before the first one.
MATTERS = "matters"
#: The worker named on the attempt of a matter a call carried: it rang nobody again, so the
#: frequency caps do not count it (the call is counted once, by its own callback's attempt).
CARRIED_WORKER = "carried"
