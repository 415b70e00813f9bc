"""IVR call flows: declarative YAML files in call_flows/, checked, then run as TwiML."""
