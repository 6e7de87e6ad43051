"""Generative imputation of sensor gaps: GRIN-protocol masks, baselines, a spatio-temporal CVAE."""
