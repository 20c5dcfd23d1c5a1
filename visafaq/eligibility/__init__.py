"""Eligibility checks: what is known about a person or company, and a date, in; a verdict out.

A verdict says yes, no or unknown, carries a computed value where there is one (a quota), and lists
its reasons (each naming its rule, the figure it compared and the source) and what is still missing.
The numbers come from knowledge/ parameters and the rules' wording and sources from knowledge/rules.yml.
"""
