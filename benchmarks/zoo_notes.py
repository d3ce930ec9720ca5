"""What limits a row of the model zoo's report card (``benchmarks.zoo``) at its budget: the
evidence a row gives when it does not read *learns*, and what a recipe row changes.

Each figure was measured with the row's own settings unless the note says otherwise (a longer
run, another seed, another width). A row that does not read *learns* on the card needs a note
here (a test checks it against ``docs/zoo/results.json``).
"""

from __future__ import annotations

__all__ = ["NOTES", "note"]

NOTES: dict[str, str] = {
    # GANs on the 2-D mixtures
    "gan_r1": "the default's rejection sampler keeps the samples above the 99th percentile of "
    "its D's score, and after 2 epochs fewer than 1 % of the proposals pass (the test stage "
    "stops); the row uses the DRS paper's 0.95",
    "gan": "the PacGAN paper's Adam lr 1e-4 (it trains 400 epochs): at 2x and at 4x the length "
    "(seed 0) the best checkpoint by validation reverse KL is the same, 23 modes at 16.8 % high "
    "quality (progress 0.14); its recipe gan_r1_cosine learns at 4x (25 modes, 60.3 %)",
    "bigan": "D has not begun to tell joint pairs apart: at 4x the length (seed 0) 15 modes at "
    "1.9 % high quality (progress -0.01); its recipe bigan_r1_cosine learns at 4x (25 modes, "
    "62.6 %)",
    "veegan": "covers the grid but spreads its samples between the modes: at 4x the length "
    "(seed 0) all 25 modes at 15.1 % high quality (progress 0.14)",
    "minibatch_disc": "still learning at the budget's end: at 4x the length (seed 0) 23 modes "
    "at 41.5 % high quality (progress 0.37)",
    "pacgan": "the packed D is the slow player (a 2-pack D alone first learns the grid after "
    "5,000 to 6,000 steps, docs/benchmarks/packed_discriminator.md): at 4x the length (seed 0) "
    "18 modes at 2.1 % high quality (progress 0.00); its recipe pacgan4_r1_cosine learns at "
    "2x (25 modes, 60.9 %)",
    "unrolled_gan": "each generator step unrolls 5 discriminator steps with their graph kept "
    "for the generator's gradient, so its 300 batches cost more CPU than plain GAN's 2,000; at "
    "4x the batches (seed 0, 274 CPU-s) 18 modes at 3.3 % high quality (progress 0.00)",
    # the recipes meet the remedy targets at the budget; each learns at 2x or 4x the length
    # (seed 0; the cosine schedule follows the run's length)
    "gan_r1_cosine": "samples still spread along lines between the modes: at 2x the length 24 "
    "modes at 40.8 % high quality (progress 0.38), at 4x 25 modes at 60.3 % (0.60)",
    "pacgan4_r1_cosine": "samples still spread along lines between the modes: at 2x the length "
    "25 modes at 60.9 % high quality (progress 0.61), at 4x 70.4 % (0.71)",
    "bigan_r1_cosine": "samples still spread along lines between the modes: at 2x the length "
    "25 modes at 49.8 % high quality (progress 0.49), at 4x 62.6 % (0.63)",
    "minibatch_disc_r1_cosine": "samples still spread along lines between the modes: at 2x the "
    "length 24 modes at 30.8 % high quality (progress 0.28), at 4x 25 modes at 50.5 % (0.50)",
    "gan_ring8": "every mode, with samples between them: at 4x the length (seed 0) 45.7 % high "
    "quality (progress 0.46); the recipe gan_r1_cosine_ring8 learns at the budget (79.9 %)",
    "bigan_r1_cosine_ring8": "one seed of three stays at 2.9 % high quality; at 4x the length "
    "(seed 0) 68.0 % (progress 0.69)",
    # image GANs on digits
    "lsgan": "dcgan's networks, lr and Adam betas; only the least-squares objective differs, "
    "and it converges more slowly here: at width 32, where 2.9x the batches fit in the budget, "
    "lsgan_w32 learns and meets all three image targets",
    "wgan": "n_critic 5: the budget's 2,025 batches are 405 generator steps; the recipe "
    "wgan_n_critic2_w32 learns",
    "wgan_gp": "n_critic 5 and a gradient penalty per critic step: the budget's 1,134 batches "
    "are 226 generator steps",
    "wgan_gp_n_critic2": "a recipe for the short budget: 2 critic steps per generator step "
    "instead of 5, at DCGAN's lr of 2e-4, so the budget's 1,053 batches are 526 generator "
    "steps instead of 226; at width 32 (wgan_gp_n_critic2_w32, 1,539 generator steps) it "
    "learns and meets all three image targets",
    "began": "k_t stays below 0.001 at the paper's gamma 0.5 and lambda_k 0.001: G's samples "
    "have 0.4 to 0.8 times the real digits' reconstruction error, close to the half that "
    "balances, and the controller's steps are small (seed 0, 22 epochs), so D is in effect "
    "an autoencoder of the real digits and G collapses to the image it reconstructs best "
    "(the config's n = 64 filters cost 5.4 CPU-s a batch of 64, so the row runs n = 16 at the "
    "paper's batch of 16). At 2x the budget (seed 0) FID worsens: 114, 143, "
    "160 after 8, 15 and 22 epochs, IS 1.0. Not better either (seed 0): lr 4e-4 (FID 123 "
    "against 116), n = 8 for 2,025 batches (138), gamma 0.7 with lambda_k 0.01 (104, one "
    "blurred stroke). Gamma 1 with lambda_k 0.02 moves k_t (0.2 by batch 500) and scores FID "
    "42.8, 25.8 and 75.4 (seeds 0 to 2), but k_t falls as D learns and G collapses again (seed "
    "0 at 22 epochs: FID 35 after 8, 102 after 22). The recipe began_digits adds a "
    "batch-normalized embedding in D",
    "began_digits": "the recipe for the short budget (experiment=began_digits): the began row "
    "with D's embedding batch-normalized and gamma 1, lambda_k 0.02. k_t peaks at 0.09 to "
    "0.45 early and is 0 at most logged steps after (G's samples end at 1.0 to 1.4 times the "
    "real digits' error), so what keeps them apart is the embedding norm. FID 20.4 over 3 seeds "
    "(21.5, 19.1, 20.0) against the paper settings' 118.7, in the budget (3.03 CPU-min); its "
    "samples are blurred digits of several classes (sharpness 0.69, class KL 0.17), so it "
    "reads partly. At 2x the budget (seed 0) FID levels off: 17.6 after 15 epochs and 17.9 "
    "after 22 (sharpness 0.73). Tried at seed 0, no better: lr 2e-4 (FID 20.5), gamma 0.5 "
    "(20.2, sharpness 0.68), batch 32 for 18 epochs (25.6, 270 CPU-s), G at n = 32 (21.3, "
    "243 CPU-s); cosine lr decay fell apart (900). Less robust (seeds 0 "
    "and 1): the embedding norm with the paper's controller (FID 742 and 23.7) and n = 8 for "
    "25 epochs (1,444 and 16.0); at the failing seeds G's samples stay badly reconstructed "
    "(L(G(z)) 0.30 to 0.43 throughout, real digits 0.12 to 0.31)",
    "pacdcgan": "progress 0.496, at the edge of *learns*: FID 7.1 and class KL 0.063 meet their "
    "targets, sharpness 0.78 is just under 0.8; at width 32 (pacdcgan_w32), where 2.4x the "
    "batches fit in the budget, it learns and meets all three image targets",
    "ssgan": "G is trained by feature matching, which Salimans et al. (2016) found gives a "
    "better semi-supervised classifier but worse samples than minibatch discrimination; with "
    "Odena's generator loss at width 32 (ssgan_nonsat_w32) it learns and meets all three image "
    "targets",
    "wgan_w32": "more generator steps at the paper's lr do not help the clipped critic: 1,198 "
    "generator steps at width 32 score FID 22.0, the 405 of width 64 scored 19.7 (3 seeds "
    "each); at lr 2e-4 (seed 0) FID 8.7, and with 2 critic steps and clip 0.02 too, the "
    "recipe wgan_n_critic2_w32",
    "wgan_n_critic2_w32": "a recipe for the short budget: 2 critic steps per generator step, "
    "RMSProp at lr 2e-4 for both and clip 0.02, at width 32; 2 critic steps cost 1.2x the "
    "paper's 5 per batch (seed 0, side by side), so 62 epochs (2,511 generator steps), and its "
    "CPU time matches wgan_w32's. FID and class KL meet their targets; sharpness 0.795 misses "
    "0.8 (per seed 0.785, 0.807, 0.794). With clip 0.01 (3 seeds) it scored FID 6.4 and "
    "sharpness 0.789; at seed 1 with clip 0.01, 1 critic step scored 0.787, lr 3e-4 0.782, "
    "a critic without BatchNorm 0.767; clip 0.03 scored 0.788 and 0.794 at seeds 0 and 2"
    " (FID 6.1 at both). At seed 0 (0.785, FID 5.7) none of five more changes reached 0.8: "
    "an EMA generator (decay 0.995, standing statistics) 0.785, the critic at lr 4e-4 0.789, "
    "Adam (beta1 0.5) for both 0.790 (FID 6.9), linear lr decay to 0 0.775, the authors' "
    "critic boost (20 critic steps for the first 25 generator steps and every 500th) 0.777. "
    "A clipped critic uses little of its capacity (Gulrajani et al. 2017); the gradient "
    "penalty in its place (wgan_gp_n_critic2_w32) meets all three targets",
    "ssgan_nonsat_w32": "a recipe for samples: ssgan_w32 with G trained as in Odena's SGAN, to "
    "have its samples judged real (the non-saturating loss), in place of feature matching",
    # flows
    "made": "Gaussian conditionals: on checkerboard, whose blocks are uniform, the best such "
    "model scores about 4.5 nats, worse than uniform noise's 4.16 (the row there ended at 4.48, "
    "3 seeds), so it trains on moons; there a single Gaussian for x1 and for x2 given x1 "
    "cannot follow the two arcs, and the test NLL levels off (seed 0: 2.545 after 1 epoch, "
    "2.531 after 4)",
    "iresnet": "still learning at the budget's end: at seed 0 the test NLL is 2.605 after 300 "
    "batches and 2.063 after 1,000 (one epoch, 108 CPU-s), where progress is 0.75",
    "resflow": "still learning at the budget's end: at seed 0 the test NLL is 2.551 after 300 "
    "batches and 2.114 after 1,000 (one epoch, 106 CPU-s), where progress is 0.72",
    "ffjord": "solved at atol = rtol = 1e-3 (the config's 1e-5 is the paper's): at seed 0, 450 "
    "batches cost 26.6 CPU-s in place of 36.2 and end at the same test NLL (2.94). Each step "
    "is an adaptive ODE solve, so the budget holds a few hundred steps where the paper's toy "
    "runs take thousands",
}


def note(name: str) -> str:
    """The row's note; a width-32 row without its own says what it changes."""
    if name in NOTES:
        return NOTES[name]
    if name.endswith("_w32"):
        return f"{name.removesuffix('_w32')} with both networks at width 32"
    return ""
