"""Evaluation metrics for generative models, each formula in its docstring (see docs/evaluation.md).

Images are compared through a feature network: the bundled digits
classifier (:func:`load_digits_classifier`) or any function
``images -> (N, D) features``; the bundled photo feature network
(:func:`load_photo_features`) gives the feature maps of SRGAN's content
loss. Toy distributions are compared as points.
"""

from minigan.metrics.c2st import classifier_two_sample_test
from minigan.metrics.colour import colour_distance
from minigan.metrics.conditional import (class_frechet_distance, code_mutual_information, label_accuracy,
                                         normalized_mutual_information)
from minigan.metrics.evaluate import (CLASS_METRICS, IMAGE_METRICS, TOY_METRICS, MetricError, evaluate_generator,
                                      fitting_metrics, format_table, score_samples, write_eval_json)
from minigan.metrics.features import DigitsClassifier, load_digits_classifier
from minigan.metrics.frechet import (frechet_distance, frechet_distance_from_statistics, frechet_distance_infinity,
                                     gaussian_statistics, sqrtm_psd)
from minigan.metrics.kernel import gaussian_mmd2, kid, median_heuristic, mmd2_unbiased, polynomial_kernel
from minigan.metrics.manifold import density_coverage, precision_recall
from minigan.metrics.modes import mode_coverage
from minigan.metrics.patches import patch_two_sample_test, train_patch_classifier
from minigan.metrics.photo_features import PhotoFeatures, load_photo_features
from minigan.metrics.pixels import psnr, sharpness
from minigan.metrics.representation import latent_recovery, nearest_neighbour_accuracy, reconstruction_error
from minigan.metrics.rejection import RejectionSamples, discriminator_rejection_sampling, drs_log_odds
from minigan.metrics.scores import inception_score

__all__ = [
    "DigitsClassifier", "load_digits_classifier", "PhotoFeatures", "load_photo_features",
    "frechet_distance", "frechet_distance_from_statistics", "frechet_distance_infinity", "gaussian_statistics",
    "sqrtm_psd", "kid", "mmd2_unbiased", "polynomial_kernel", "gaussian_mmd2", "median_heuristic",
    "inception_score", "precision_recall", "density_coverage", "mode_coverage", "classifier_two_sample_test",
    "RejectionSamples", "discriminator_rejection_sampling", "drs_log_odds",
    "label_accuracy", "class_frechet_distance", "normalized_mutual_information", "code_mutual_information",
    "MetricError", "evaluate_generator", "fitting_metrics", "score_samples", "format_table", "write_eval_json",
    "TOY_METRICS", "IMAGE_METRICS", "CLASS_METRICS", "nearest_neighbour_accuracy", "reconstruction_error",
    "latent_recovery", "psnr", "sharpness", "colour_distance", "patch_two_sample_test", "train_patch_classifier",
]
