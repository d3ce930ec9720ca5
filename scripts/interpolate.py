"""``python scripts/interpolate.py ...`` runs ``gens-interpolate``."""

from gens.cli.interpolate import main

if __name__ == "__main__":
    main()
