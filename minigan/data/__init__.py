"""Data: toy distributions with known modes, bundled digits and photographs, IDX (MNIST) files, image folders,
batching."""

from minigan.data.images import ImageDataset, digits, fashion_mnist, image_folder, load_idx, mnist, to_unit_range
from minigan.data.loader import Batch, DataLoader
from minigan.data.photos import (IMAGE_TASKS, bilinear_halve, luminance, photo_domains, photo_pairs, photos,
                                 plain_baseline, task_data)
from minigan.data.source import DataSource
from minigan.data.toy import TOYS, ToyDistribution, grid25, mixture1d, ring8, spiral, toy

__all__ = ["ImageDataset", "digits", "fashion_mnist", "image_folder", "load_idx", "mnist", "photos", "to_unit_range",
           "IMAGE_TASKS", "luminance", "photo_domains", "photo_pairs", "plain_baseline", "task_data",
           "bilinear_halve", "Batch", "DataLoader", "DataSource", "TOYS", "ToyDistribution", "grid25", "mixture1d",
           "ring8", "spiral", "toy"]
