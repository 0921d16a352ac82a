"""Activations and their derivatives (models/_base_network.py)."""
import unittest
import warnings

import numpy as np

import _support  # noqa: F401  (puts the package on the import path)
from models import _baseNetwork


class TestSigmoid(unittest.TestCase):
    def setUp(self):
        self.net = _baseNetwork()

    def test_values(self):
        x = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
        np.testing.assert_allclose(self.net.sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12,
                                   err_msg="sigmoid(x) should be 1 / (1 + exp(-x))")

    def test_extreme_inputs_stay_finite_without_warnings(self):
        x = np.array([-1000.0, -50.0, 50.0, 1000.0])
        with warnings.catch_warnings():
            warnings.simplefilter('error')  # an overflow warning fails the test
            out = self.net.sigmoid(x)
        self.assertTrue(np.all(np.isfinite(out)), f"sigmoid({x}) gave {out}")
        np.testing.assert_allclose(out, [0.0, 0.0, 1.0, 1.0], atol=1e-20)

    def test_keeps_float32(self):
        x = np.linspace(-3, 3, 7, dtype=np.float32)
        self.assertEqual(self.net.sigmoid(x).dtype, np.float32,
                         "float32 input should give float32 output")

    def test_derivative(self):
        x = np.linspace(-4, 4, 17)
        s = 1 / (1 + np.exp(-x))
        np.testing.assert_allclose(self.net.sigmoid_dev(x), s * (1 - s), rtol=1e-12,
                                   err_msg="sigmoid_dev(x) should be s(x) * (1 - s(x))")
        eps = 1e-6
        numeric = (self.net.sigmoid(x + eps) - self.net.sigmoid(x - eps)) / (2 * eps)
        np.testing.assert_allclose(self.net.sigmoid_dev(x), numeric, atol=1e-9,
                                   err_msg="sigmoid_dev disagrees with central differences")


class TestReLU(unittest.TestCase):
    def setUp(self):
        self.net = _baseNetwork()

    def test_values(self):
        x = np.array([[-2.0, 0.0, 3.5], [1e-9, -1e-9, 7.0]])
        np.testing.assert_array_equal(self.net.ReLU(x), [[0, 0, 3.5], [1e-9, 0, 7.0]])

    def test_derivative_is_one_where_positive_zero_where_negative(self):
        x = np.array([-3.0, -1e-12, 1e-12, 2.0])
        np.testing.assert_array_equal(self.net.ReLU_dev(x), [0, 0, 1, 1],
                                      err_msg="ReLU_dev: 1 where x > 0, 0 where x < 0")

    def test_derivative_at_zero_is_a_subgradient(self):
        at_zero = np.asarray(self.net.ReLU_dev(np.array([0.0, -0.0])))
        self.assertTrue(np.all((at_zero >= 0) & (at_zero <= 1)),
                        f"ReLU_dev(0) = {at_zero}: any value in [0, 1] is a subgradient")


if __name__ == '__main__':
    unittest.main()
