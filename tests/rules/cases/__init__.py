"""One module per rule code: ``bad_*`` functions build specs that break the rule, ``good_*`` near misses that don't.

tests/rules/test_rule_cases.py runs them all: for an error rule a bad spec must be rejected with that rule as
Core ML's first error among the checks ported here, and a good spec accepted; for a warning rule a bad spec must
stay valid but carry the warning, and a good spec must not.
"""
