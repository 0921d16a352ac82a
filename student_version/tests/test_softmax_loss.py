"""Softmax, cross-entropy loss and accuracy (models/_base_network.py)."""
import unittest
import warnings

import numpy as np

import _support  # noqa: F401
from models import _baseNetwork


class TestSoftmax(unittest.TestCase):
    def setUp(self):
        self.net = _baseNetwork()

    def test_matches_definition(self):
        scores = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]])
        expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        np.testing.assert_allclose(self.net.softmax(scores), expected, rtol=1e-12)

    def test_rows_sum_to_one(self):
        scores = np.random.default_rng(0).normal(scale=5, size=(6, 10))
        np.testing.assert_allclose(self.net.softmax(scores).sum(axis=1), np.ones(6),
                                   rtol=1e-12)

    def test_stable_for_huge_logits(self):
        scores = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4 + 1, -1e4 + 2]])
        with warnings.catch_warnings():
            warnings.simplefilter('error')
            prob = self.net.softmax(scores)
        self.assertTrue(np.all(np.isfinite(prob)),
                        f"softmax overflowed on logits of +-1e4: {prob}. Subtract each "
                        f"row's maximum before exponentiating.")
        np.testing.assert_allclose(prob[0], [1, 0, 0], atol=1e-12)
        expected = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
        np.testing.assert_allclose(prob[1], expected, rtol=1e-10)


class TestLossAndAccuracy(unittest.TestCase):
    def setUp(self):
        self.net = _baseNetwork()

    def test_cross_entropy_is_mean_negative_log_likelihood(self):
        prob = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.25, 0.5, 0.25]])
        y = np.array([0, 2, 1])
        expected = -np.mean(np.log([0.7, 0.6, 0.5]))
        self.assertAlmostEqual(self.net.cross_entropy_loss(prob, y), expected, places=12)

    def test_cross_entropy_finite_for_a_zero_probability(self):
        prob = np.array([[1.0, 0.0], [0.5, 0.5]])
        loss = self.net.cross_entropy_loss(prob, np.array([1, 0]))
        self.assertTrue(np.isfinite(loss),
                        "cross_entropy_loss returned a non-finite loss when the true "
                        "class has probability 0: clip the probabilities from below")
        self.assertGreater(loss, 10)

    def test_accuracy(self):
        prob = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
        self.assertAlmostEqual(self.net.compute_accuracy(prob, np.array([1, 0, 0, 0])), 0.75)


if __name__ == '__main__':
    unittest.main()
