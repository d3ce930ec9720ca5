"""Train a gens model: ``python train.py model=wgan_gp data=grid25`` (see README.md)."""

from gens.train import main

if __name__ == "__main__":
    main()
