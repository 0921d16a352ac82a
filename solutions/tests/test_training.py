"""One epoch of training on real MNIST, and the learning-curve plot (utils.py)."""
import os
import tempfile
import unittest

import _support  # noqa: F401
from models import TwoLayerNet
from optimizer import SGD
from utils import (evaluate, generate_batched_data, load_mnist_test, load_mnist_trainval,
                   plot_curves, train)


class TestOneEpoch(unittest.TestCase):
    def test_two_layer_net_learns_in_one_epoch(self):
        train_data, train_label, _, _ = load_mnist_trainval()
        test_data, test_label = load_mnist_test()
        model = TwoLayerNet()
        optimizer = SGD(learning_rate=0.1, reg=0.001)
        batches = generate_batched_data(train_data, train_label, 64, shuffle=True, seed=0)
        train_loss, train_acc = train(1, *batches, model, optimizer, debug=False)
        test_loss, test_acc = evaluate(*generate_batched_data(test_data, test_label, 64),
                                       model, debug=False)
        self.assertGreater(train_acc, 0.3, f"training accuracy after one epoch: {train_acc}")
        self.assertGreater(test_acc, 0.3, f"test accuracy after one epoch: {test_acc}")
        self.assertLess(test_loss, 2.0)


class TestPlotCurves(unittest.TestCase):
    def test_two_labelled_panels_saved_as_png(self):
        history = ([2.0, 1.0, 0.5], [0.3, 0.6, 0.8], [2.1, 1.2, 0.7], [0.25, 0.55, 0.75])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'curves.png')
            fig = plot_curves(*history, save_path=path)
            self.assertTrue(os.path.getsize(path) > 0, "plot_curves saved no PNG")
            with open(path, 'rb') as f:
                self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')
        axes = fig.get_axes()
        self.assertEqual(len(axes), 2, "one panel for the loss, one for the accuracy")
        for ax in axes:
            self.assertTrue(ax.get_xlabel() and ax.get_ylabel(), "label both axes")
            self.assertIsNotNone(ax.get_legend(), "add a legend to each panel")
            self.assertEqual(len(ax.get_lines()), 2, "a training and a validation curve")
        import matplotlib.pyplot as plt
        plt.close(fig)


if __name__ == '__main__':
    unittest.main()
