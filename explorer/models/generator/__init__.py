"""Conditional WGAN-GP scenario generator: surges from history, training, generation, evaluation."""
