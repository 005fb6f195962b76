"""Reading and writing networks: BIF files and the bundled networks.

- ``bif``: ``read_bif`` (a path or bytes; a str with a newline is text), ``read_bif_string`` (text),
  ``write_bif``, ``bif_string``.
- ``bif_parser``: the scanner and recursive-descent parser behind ``read_bif`` (``BIFError``).
- ``gaussian_json``: ``read_json``, ``write_json`` (pgmpy's linear Gaussian JSON format; ``BayesNet`` in and
  out); the four bnlearn Gaussian networks in ``data/`` (ecoli70, magic-niab, magic-irri, arth150).
- ``bundled``: ``load_network``, ``list_networks``, ``network_path`` (asia and alarm ship in ``data/``;
  pgmpy's bnlearn networks are found where pgmpy is installed).
"""

from probgen._lazy import lazy_exports

#: public name -> the module that defines it
EXPORTS = {
    "BIFError": "probgen.bayesnet.io.bif_parser",
    "bif_string": "probgen.bayesnet.io.bif",
    "read_bif": "probgen.bayesnet.io.bif",
    "read_bif_string": "probgen.bayesnet.io.bif",
    "write_bif": "probgen.bayesnet.io.bif",
    "read_json": "probgen.bayesnet.io.gaussian_json",
    "write_json": "probgen.bayesnet.io.gaussian_json",
    "list_networks": "probgen.bayesnet.io.bundled",
    "load_network": "probgen.bayesnet.io.bundled",
    "network_path": "probgen.bayesnet.io.bundled",
}
__getattr__, __dir__, __all__ = lazy_exports(__name__, EXPORTS)
