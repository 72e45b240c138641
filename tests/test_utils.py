"""minigan.utils: torch.utils.data's Dataset, TensorDataset and DataLoader; torchvision's make_grid and save_image."""

import numpy as np
import pytest

import minigan as mg
from minigan.utils import make_grid, save_image
from minigan.utils.data import DataLoader, Dataset, TensorDataset, default_collate


def _xy(n=10):
    x = mg.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = mg.tensor(np.arange(n), dtype=mg.int64)
    return x, y


# -- TensorDataset -------------------------------------------------------------------------------------------

def test_tensor_dataset_rows_and_length():
    x, y = _xy()
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[4]
    assert isinstance(xi, mg.Tensor) and xi.shape == (3,)
    np.testing.assert_array_equal(xi.numpy(), [12, 13, 14])
    assert int(yi) == 4


def test_tensor_dataset_lengths_must_match():
    with pytest.raises(ValueError, match="Size mismatch.*\\[10, 9\\]"):
        TensorDataset(mg.zeros(10, 2), mg.zeros(9))
    with pytest.raises(ValueError):
        TensorDataset()


# -- DataLoader ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("drop_last, lengths", [(False, [4, 4, 2]), (True, [4, 4])])
def test_batches_in_order_and_length(drop_last, lengths):
    x, y = _xy()
    loader = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=drop_last)
    assert len(loader) == len(lengths)
    batches = list(loader)
    assert [len(b[0]) for b in batches] == lengths
    for k, (xb, yb) in enumerate(batches):
        assert isinstance(xb, mg.Tensor) and isinstance(yb, mg.Tensor)
        assert xb.dtype == np.float32 and yb.dtype == np.int64
        np.testing.assert_array_equal(yb.numpy(), np.arange(10)[4 * k:4 * k + lengths[k]])
        np.testing.assert_array_equal(xb.numpy(), x.numpy()[yb.numpy()])


def test_len_rounds_like_pytorch():
    ds = TensorDataset(mg.zeros(7, 1))
    assert len(DataLoader(ds)) == 7
    assert len(DataLoader(ds, batch_size=3)) == 3
    assert len(DataLoader(ds, batch_size=3, drop_last=True)) == 2
    assert len(DataLoader(ds, batch_size=8, drop_last=True)) == 0
    assert list(DataLoader(ds, batch_size=8, drop_last=True)) == []


def test_shuffle_is_a_permutation_reproducible_with_manual_seed():
    x, y = _xy(20)
    loader = DataLoader(TensorDataset(x, y), batch_size=6, shuffle=True)

    def order():
        return np.concatenate([yb.numpy() for _, yb in loader])

    mg.manual_seed(3)
    first, second = order(), order()
    assert sorted(first) == list(range(20))
    assert not np.array_equal(first, np.arange(20))
    assert not np.array_equal(first, second)  # a fresh order each pass
    mg.manual_seed(3)
    np.testing.assert_array_equal(order(), first)
    np.testing.assert_array_equal(order(), second)
    for xb, yb in loader:  # rows stay paired
        np.testing.assert_array_equal(xb.numpy(), x.numpy()[yb.numpy()])


def test_shuffle_with_an_explicit_generator_ignores_the_default_one():
    _, y = _xy(16)
    ds = TensorDataset(y)

    def order(seed):
        loader = DataLoader(ds, batch_size=5, shuffle=True, generator=mg.Generator(seed))
        return np.concatenate([b[0].numpy() for b in loader])

    mg.manual_seed(0)
    a = order(7)
    mg.manual_seed(1)
    np.testing.assert_array_equal(order(7), a)
    assert not np.array_equal(order(8), a)


def test_workers_and_pin_memory_are_accepted_and_ignored():
    x, y = _xy()
    plain = list(DataLoader(TensorDataset(x, y), batch_size=3))
    loader = DataLoader(TensorDataset(x, y), batch_size=3, num_workers=4, pin_memory=True, persistent_workers=True)
    for (a, b), (c, d) in zip(plain, loader):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())


class Pairs(Dataset):
    """(array, int) samples, as a custom PyTorch dataset returns."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.full((2, 2), i, dtype=np.float32), i


def test_a_custom_dataset_of_array_int_pairs_collates_to_tensors():
    loader = DataLoader(Pairs(), batch_size=2)
    assert len(loader) == 3
    batches = list(loader)
    images, labels = batches[0]
    assert isinstance(images, mg.Tensor) and images.shape == (2, 2, 2) and images.dtype == np.float32
    assert isinstance(labels, mg.Tensor) and labels.dtype == np.int64
    np.testing.assert_array_equal(labels.numpy(), [0, 1])
    np.testing.assert_array_equal(images.numpy()[1], np.ones((2, 2)))
    assert batches[-1][0].shape == (1, 2, 2)


def test_the_base_dataset_must_be_subclassed():
    with pytest.raises(NotImplementedError):
        Dataset()[0]
    with pytest.raises(NotImplementedError):
        len(Dataset())


def test_default_collate_numbers_dicts_and_strings():
    assert default_collate([1.5, 2.0]).dtype == np.float64
    assert default_collate([np.float32(1), np.float32(2)]).dtype == np.float32
    assert default_collate([True, False]).dtype == np.bool_
    out = default_collate([{"x": np.zeros(2), "name": "a"}, {"x": np.ones(2), "name": "b"}])
    assert out["name"] == ["a", "b"] and out["x"].shape == (2, 2)
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([(1, 2), (1,)])


def test_batching_off_and_samplers():
    x, y = _xy(6)
    ds = TensorDataset(x, y)
    single = list(DataLoader(ds, batch_size=None))
    assert len(single) == 6 and single[2][1].shape == ()
    batches = list(DataLoader(ds, batch_sampler=[[5, 0], [3]]))
    np.testing.assert_array_equal(batches[0][1].numpy(), [5, 0])
    assert len(DataLoader(ds, batch_sampler=[[5, 0], [3]])) == 2
    np.testing.assert_array_equal(next(iter(DataLoader(ds, batch_size=3, sampler=[4, 2, 1])))[1].numpy(), [4, 2, 1])
    with pytest.raises(ValueError):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError):
        DataLoader(ds, batch_size=0)


def test_collated_tensors_keep_gradients():
    x = mg.randn(4, 2, requires_grad=True)
    (xb,) = next(iter(DataLoader(TensorDataset(x), batch_size=4)))
    xb.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((4, 2)))


def test_same_batches_as_torch_without_shuffle():
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata

    x = np.random.default_rng(0).standard_normal((11, 2, 3)).astype(np.float32)
    y = np.arange(11)
    ours = list(DataLoader(TensorDataset(mg.tensor(x), mg.tensor(y)), batch_size=4))
    theirs = list(tdata.DataLoader(tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=4))
    assert len(ours) == len(theirs)
    for (a, b), (c, d) in zip(ours, theirs):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert str(b.dtype) == str(d.dtype).removeprefix("torch.")

    class TorchPairs(tdata.Dataset):
        __len__, __getitem__ = Pairs.__len__, Pairs.__getitem__

    for (a, b), (c, d) in zip(DataLoader(Pairs(), batch_size=2), tdata.DataLoader(TorchPairs(), batch_size=2)):
        np.testing.assert_array_equal(a.numpy(), c.numpy())
        np.testing.assert_array_equal(b.numpy(), d.numpy())
        assert str(b.dtype) == str(d.dtype).removeprefix("torch.")
    assert type(next(iter(DataLoader(Pairs())))) is type(next(iter(tdata.DataLoader(TorchPairs()))))


# -- make_grid and save_image --------------------------------------------------------------------------------

def test_make_grid_layout_by_hand():
    """Three 1x2x2 images, nrow=2, padding=1: torchvision's layout, channels repeated to three."""
    images = np.arange(1, 13, dtype=np.float32).reshape(3, 1, 2, 2)
    grid = make_grid(mg.tensor(images), nrow=2, padding=1, pad_value=-1.0)
    assert isinstance(grid, mg.Tensor)
    a, b, c = (images[k, 0] for k in range(3))
    P = -1.0
    expected = np.array([
        [P, P, P, P, P, P, P],
        [P, a[0, 0], a[0, 1], P, b[0, 0], b[0, 1], P],
        [P, a[1, 0], a[1, 1], P, b[1, 0], b[1, 1], P],
        [P, P, P, P, P, P, P],
        [P, c[0, 0], c[0, 1], P, P, P, P],
        [P, c[1, 0], c[1, 1], P, P, P, P],
        [P, P, P, P, P, P, P],
    ], dtype=np.float32)
    assert grid.shape == (3, 7, 7)
    for channel in grid.numpy():
        np.testing.assert_array_equal(channel, expected)


def test_make_grid_normalize_value_range_and_scale_each():
    images = np.array([[[[0.0, 2.0]]], [[[4.0, 8.0]]]], dtype=np.float32)  # 2 images 1x1x2
    t = mg.tensor(images)
    whole = make_grid(t, nrow=2, padding=0, normalize=True).numpy()[0]
    np.testing.assert_allclose(whole, [[0, 0.25, 0.5, 1.0]])
    each = make_grid(t, nrow=2, padding=0, normalize=True, scale_each=True).numpy()[0]
    np.testing.assert_allclose(each, [[0, 1, 0, 1]])
    ranged = make_grid(t, nrow=1, padding=0, normalize=True, value_range=(0.0, 4.0)).numpy()[0]
    np.testing.assert_allclose(ranged, [[0, 0.5], [1, 1]])  # clamped to the range first
    np.testing.assert_array_equal(t.numpy(), images)  # the input is left alone
    with pytest.raises(TypeError):
        make_grid(t, normalize=True, value_range=[0, 1])


def test_make_grid_of_one_image_and_of_a_list():
    one = make_grid(mg.ones(1, 1, 3, 4), padding=2)
    assert one.shape == (3, 3, 4)  # the image itself, no padding
    assert make_grid(mg.ones(5, 6)).shape == (3, 5, 6)
    grid = make_grid([mg.zeros(3, 2, 2)] * 10, nrow=4, padding=2)
    assert grid.shape == (3, 3 * 4 + 2, 4 * 4 + 2)


def test_save_image_writes_a_png_of_the_grid(tmp_path):
    import matplotlib.image as mpimg

    images = mg.rand(5, 1, 4, 3)
    path = tmp_path / "grid.png"
    save_image(images, path, nrow=3, padding=1)
    pixels = mpimg.imread(path)
    assert pixels.shape[:2] == (2 * 5 + 1, 3 * 4 + 1)
    expected = np.clip(make_grid(images, nrow=3, padding=1).numpy() * 255 + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(np.round(pixels[..., :3] * 255).astype(np.uint8), expected.transpose(1, 2, 0))
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temporary left behind


def test_save_image_normalizes_and_takes_file_objects(tmp_path):
    import io

    import matplotlib.image as mpimg

    buffer = io.BytesIO()
    save_image(mg.tensor([[[-1.0, 1.0]]]), buffer, normalize=True)
    buffer.seek(0)
    pixels = mpimg.imread(buffer, format="png")
    np.testing.assert_array_equal(np.round(pixels[0, :, 0] * 255), [0, 255])
