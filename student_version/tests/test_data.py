"""Loading MNIST and cutting it into batches (utils.py).

The loading tests need the data: run ./get_data.sh from the kit's top folder.
"""
import unittest

import numpy as np

import _support  # noqa: F401
from utils import generate_batched_data, load_mnist, load_mnist_test, load_mnist_trainval


class TestLoading(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.images, cls.labels = load_mnist('train')

    def test_train_validation_split(self):
        train_data, train_label, val_data, val_label = load_mnist_trainval()
        self.assertEqual(train_data.shape, (48000, 784))
        self.assertEqual(val_data.shape, (12000, 784))
        self.assertEqual(train_label.shape, (48000,))
        self.assertEqual(val_label.shape, (12000,))
        # Unshuffled: the first 48,000 examples train, the last 12,000 validate.
        np.testing.assert_array_equal(train_label, self.labels[:48000])
        np.testing.assert_array_equal(val_label, self.labels[48000:])
        np.testing.assert_array_equal(train_data[::997], self.images[:48000:997])
        np.testing.assert_array_equal(val_data[::997], self.images[48000::997])

    def test_dtypes_range_and_first_labels_of_every_split(self):
        train_data, train_label, val_data, val_label = load_mnist_trainval()
        test_data, test_label = load_mnist_test()
        for split, data, label in (('train', train_data, train_label),
                                   ('validation', val_data, val_label),
                                   ('test', test_data, test_label)):
            self.assertEqual(data.dtype, np.float32, f"{split} images")
            self.assertEqual(label.dtype, np.int64, f"{split} labels")
            self.assertGreaterEqual(float(data.min()), 0.0, f"{split} images")
            self.assertLessEqual(float(data.max()), 1.0, f"{split} images")
        np.testing.assert_array_equal(train_label[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
        np.testing.assert_array_equal(val_label[:5], self.labels[48000:48005])
        self.assertEqual(test_data.shape, (10000, 784))
        np.testing.assert_array_equal(test_label[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])


class TestBatching(unittest.TestCase):
    def setUp(self):
        self.data = np.arange(23 * 3, dtype=np.float64).reshape(23, 3)
        self.label = np.arange(23)

    def test_sizes_keep_the_last_partial_batch(self):
        batches, labels = generate_batched_data(self.data, self.label, batch_size=5)
        self.assertEqual([len(b) for b in batches], [5, 5, 5, 5, 3],
                         "23 examples in batches of 5: four full batches and one of 3")
        self.assertEqual([len(b) for b in labels], [5, 5, 5, 5, 3])

    def test_no_shuffle_keeps_order(self):
        batches, labels = generate_batched_data(self.data, self.label, batch_size=4)
        np.testing.assert_array_equal(np.concatenate(batches), self.data)
        np.testing.assert_array_equal(np.concatenate(labels), self.label)

    def test_shuffle_is_a_seeded_permutation(self):
        runs = [generate_batched_data(self.data, self.label, batch_size=4, shuffle=True,
                                      seed=0) for _ in range(2)]
        (b1, l1), (b2, l2) = runs
        order = np.concatenate(l1)
        self.assertEqual(sorted(order.tolist()), list(range(23)),
                         "shuffling must reorder the examples, not repeat or drop them")
        self.assertFalse(np.array_equal(order, self.label), "shuffle=True left the order")
        np.testing.assert_array_equal(np.concatenate(b1), self.data[order],
                                      err_msg="data and labels must be shuffled together")
        np.testing.assert_array_equal(np.concatenate(l2), order,
                                      err_msg="the same seed (0 included) must give the "
                                              "same order")

    def test_accepts_lists(self):
        batches, labels = generate_batched_data(self.data.tolist(), self.label.tolist(),
                                                batch_size=10)
        self.assertEqual([len(b) for b in batches], [10, 10, 3])
        np.testing.assert_array_equal(np.concatenate(labels), self.label)


if __name__ == '__main__':
    unittest.main()
