"""``python scripts/sample.py ...`` runs ``gens-sample``."""

from gens.cli.sample import main

if __name__ == "__main__":
    main()
