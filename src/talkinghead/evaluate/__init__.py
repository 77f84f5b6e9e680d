"""Evaluation: metrics, baselines, the evaluation driver and its report."""
