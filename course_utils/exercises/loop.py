"""The exercise on the loop: how a student's optimisation step is run on a test case.

`train_step(x, optimizer, loss_fn)` updates the image variable x in place and returns the
loss of the image it was given.  Its test case is data only — the start image, a target
image, Adam's learning rate and a number of steps — so that the grader can send it to the
process that runs the student's code; `run` builds the variable, the optimizer and the
loss from that data, calls the step, and hands back the image it leaves (a plain array),
which the judge compares with the reference's.  Inside `tf.function` (as the training
loop runs it) the step is traced once and called at every step.
"""
import numpy as np
import tensorflow as tf

BOX = (0.0, 255.0)                  # the pixel box of train.py's optimisers


def loss_of(target):
    """The test cases' loss: Σ (x − target)², smallest at a target partly outside the box."""
    target = tf.constant(target, tf.float32)
    return lambda x: tf.reduce_sum(tf.square(x - target))


def run(step, x0, target, learning_rate, steps, graph=False):
    """The image (float64 array) that `steps` calls of step(x, Adam, loss) leave, from x0;
    a ValueError if a call does not return the loss of the image it was given."""
    import keras
    x = tf.Variable(tf.constant(np.asarray(x0), tf.float32))
    optimizer = keras.optimizers.Adam(learning_rate=float(learning_rate))
    loss = loss_of(np.asarray(target))
    call = tf.function(step, autograph=False) if graph else step
    for k in range(int(steps)):
        before, clipped = float(loss(x)), float(loss(tf.clip_by_value(x, *BOX)))
        returned = call(x, optimizer, loss)
        _check_returned(returned, before, clipped, k)
    return np.asarray(x.numpy(), np.float64)


def _check_returned(returned, before, clipped, k):
    if returned is None:
        raise ValueError("it returned None: return the loss L = loss_fn(x) of the image "
                         "it was given (computed inside the tape).")
    value = np.asarray(returned, np.float64)
    if value.shape != ():
        raise ValueError(f"it returned an array of shape {value.shape}: return the loss "
                         "L = loss_fn(x), one number.")
    if np.isclose(value, before, rtol=1e-4, atol=1e-3):
        return
    if np.isclose(value, clipped, rtol=1e-4, atol=1e-3):
        raise ValueError(f"at step {k + 1} it returned the loss of the image clipped to 0 … 255 "
                         "before the update: clip after optimizer.apply_gradients, so that the "
                         "image the step leaves is in the box.")
    raise ValueError(f"at step {k + 1} it returned {float(value):.6g}, but the loss of the "
                     f"image it was given is {before:.6g}: return loss_fn(x) as the tape "
                     "computed it, before the update.")
