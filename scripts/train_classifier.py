"""``python scripts/train_classifier.py ...`` runs ``gens-train-classifier``."""

from gens.cli.train_classifier import main

if __name__ == "__main__":
    main()
