"""``explorer bench``: ratios and percentiles measured in one run (generation, browser, concurrency)."""
