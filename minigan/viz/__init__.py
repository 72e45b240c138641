"""Pictures of what a GAN learned: sample grids, 2-D scatter plots, loss and metric curves, progress animations,
attention maps; spherical paths through a latent space.

Every function writes a file atomically (temporary file, then rename) and
uses matplotlib's non-interactive Agg backend, so it works on a server.
"""

from minigan.viz.attention import attention_maps, plot_attention
from minigan.viz.figures import (image_grid, plot_losses, plot_metrics, plot_samples_with_curves, plot_toy_samples,
                                 save_animation, save_image_grid, save_interpolation)
from minigan.viz.latent import slerp

__all__ = ["image_grid", "save_image_grid", "plot_toy_samples", "plot_losses", "plot_metrics", "save_animation",
           "save_interpolation", "plot_samples_with_curves", "attention_maps", "plot_attention", "slerp"]
