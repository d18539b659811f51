"""Model files: one ZIP archive of a JSON header and raw ``.npy`` arrays; no pickle, ever.

As Keras keeps ``saving/`` apart from its models, one format lives in one package:

===========================  ===============================================================
module                       what it holds
===========================  ===============================================================
:mod:`.container`            the format (version 1), :class:`ModelFileError`,
                             :func:`check_json` and :func:`write_model_file` (atomic)
:mod:`.limits`               the size limits reading checks before allocating anything
:mod:`.reader`               :func:`read_model_file`: every declared size checked, then read
:mod:`.schema`               the Sequential header's schema, one check per section
:mod:`.sequential`           :func:`save`, :func:`read_model`, :func:`load` of a Sequential
:mod:`.estimator_files`      the ``"estimator"`` metadata of an estimator's model file and
                             ``save_estimator`` (needs scikit-learn; not imported here)
===========================  ===============================================================

Layering: this package imports the engine (``Sequential``, layers, optimizers, preprocessing)
and nothing above it. It never imports :mod:`nablanet.estimators`: an estimator file is a
Sequential file plus metadata, so :mod:`.estimator_files` writes and decodes that metadata
(class name, parameters as JSON, fitted attributes), and turning a file back into a fitted
estimator (:func:`nablanet.estimators.from_model`) lives with the estimator classes, which
import this package. ``Sequential.save`` imports :mod:`.sequential` inside the method, a
deliberate upward facade (as Keras's ``Model.save``).

``nablanet.model_io`` and ``nablanet.estimators.model_files`` are the former homes of this
code; they re-export it.

Examples
--------
>>> model.save("model.nbnet")                                # doctest: +SKIP
>>> model = nablanet.saving.load("model.nbnet")              # doctest: +SKIP
>>> header, arrays = nablanet.saving.read_model_file("model.nbnet")  # doctest: +SKIP
"""

from .container import (
    ALLOWED_KINDS,
    DEFAULT_SUFFIX,
    FORMAT_NAME,
    FORMAT_VERSION,
    HEADER_MEMBER,
    NABLANET_VERSION,
    ArraySpec,
    HeaderCheck,
    ModelFileError,
    check_json,
    write_model_file,
)
from .limits import (
    LOAD_MEMORY_FACTOR,
    MAX_ARRAY_BYTES,
    MAX_HEADER_BYTES,
    MAX_JSON_DEPTH,
    MAX_NDIM,
    MAX_TOTAL_BYTES,
    NPY_HEADER_MAX,
    available_memory,
)
from .reader import read_model_file
from .sequential import MODEL_KIND, SavedModel, load, read_model, save

__all__ = [
    "ALLOWED_KINDS",
    "DEFAULT_SUFFIX",
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "HEADER_MEMBER",
    "LOAD_MEMORY_FACTOR",
    "MAX_ARRAY_BYTES",
    "MAX_HEADER_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_NDIM",
    "MAX_TOTAL_BYTES",
    "MODEL_KIND",
    "NABLANET_VERSION",
    "NPY_HEADER_MAX",
    "ArraySpec",
    "HeaderCheck",
    "ModelFileError",
    "SavedModel",
    "available_memory",
    "check_json",
    "load",
    "read_model",
    "read_model_file",
    "save",
    "write_model_file",
]
