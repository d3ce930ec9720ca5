"""``python scripts/evaluate.py ...`` runs ``gens-evaluate``."""

from gens.cli.evaluate import main

if __name__ == "__main__":
    main()
