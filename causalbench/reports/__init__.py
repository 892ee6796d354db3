"""Reports rebuilt from records alone: the run summary and plots, and the scaling study."""
