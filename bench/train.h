/* `snn train` and `snn infer`: secure training and inference of a network
 * on MNIST inside the three-party simulation.
 *
 * This process plays the data owner, outside the three parties: it loads
 * MNIST, encodes pixels as fixed point (pixel/255, rounded) and labels
 * one-hot (1.0 = 2^frac), secret-shares them and the initial weights between
 * P0 and P1, and combines P0's and P1's output shares to score them. The
 * parties never see cleartext data or weights; P2 only helps.
 *
 * train: one sim_run per epoch (public shuffle, SGD by truncation), a secure
 * inference on the test set after it, a checkpoint of the shares
 * (PREFIX.p0, PREFIX.p1: model_file.h, with the learning rate, its decay and
 * the batch size) after every epoch, --resume, --reveal FILE, --shadow (the
 * cleartext fixed-point twin beside it: weight differences, and the
 * activations of a probe batch revealed layer by layer against the twin's).
 * --mode fixed trains the twin alone, --mode float the float reference
 * (nn_float.h) alone: same initial weights, order and epoch lines, no
 * parties, no checkpoints. --lr-decay halves the rate at given epochs in
 * every mode. --curve FILE (default PREFIX.tsv; in the cleartext modes
 * results/ckpt/<net>-<mode>.tsv) gets a TSV row per epoch after each epoch
 * (written to FILE.tmp and renamed; --resume keeps the rows up to the
 * checkpoint's epoch), and with gnuplot the figure plots/train.gp draws of it.
 * infer: secure inference (forward + argmax) of a share pair or a cleartext
 * model file on the test set (accuracy, confusion matrix) or on image files.
 *
 * Seeds. From the run's seed S: the owner's sharing of the data
 * prg_derive_key(S, "owner") (train images and labels, then test images),
 * of a cleartext model "owner-model", the initial weights "init", the
 * shuffle of epoch e prg_derive_key(S ^ e·0x9e3779b97f4a7c15, "shuffle"),
 * and the simulation seeds of epoch e's training, test and --shadow probe
 * runs from "train e", "test e" and "probe e" (first 8 bytes of the key,
 * little-endian). A resumed epoch therefore replays exactly the epoch an
 * interruption lost. The cleartext modes start from the same "init" weights
 * and use the same shuffles. */
#ifndef SNN_BENCH_TRAIN_H
#define SNN_BENCH_TRAIN_H

/* `snn train ...` and `snn infer ...`: argv holds the arguments after the
 * command name. Exit status: 0, 1 (runtime error), 2 (usage error). */
int train_main(int argc, char **argv);
int train_infer_main(int argc, char **argv);

#endif
