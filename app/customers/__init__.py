"""Customers of the financial company: the people we call back."""
