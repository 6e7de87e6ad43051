"""Models: the generative imputer, the conditional GAN generator, and their checkpoints."""
