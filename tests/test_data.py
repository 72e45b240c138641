import gzip
import struct

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigan import data


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    raw = header + array.tobytes()
    (gzip.open if compress else open)(path, "wb").write(raw)


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), dtype=st.sampled_from(["u1", ">i4", ">f4"]),
       compress=st.booleans(), seed=st.integers(0, 100))
def test_idx_round_trip(tmp_path_factory, shape, dtype, compress, seed):
    array = (np.random.default_rng(seed).random(shape) * 200).astype(dtype)
    path = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if compress else "a.idx")
    write_idx(path, array, compress)
    np.testing.assert_array_equal(data.load_idx(path), array)


def test_idx_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere"):
        data.load_idx(tmp_path / "nothere")
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="bad magic"):
        data.load_idx(bad)
    short = tmp_path / "short"
    write_idx(short, np.zeros((3, 4), np.uint8))
    short.write_bytes(short.read_bytes()[:-2])
    with pytest.raises(ValueError, match="expected 12 bytes"):
        data.load_idx(short)


def test_mnist_from_a_folder_and_a_clear_error_for_a_missing_file(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    labels = np.arange(5, dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images, compress=True)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    ds = data.mnist(tmp_path)
    assert ds.images.shape == (5, 1, 28, 28) and ds.images.dtype == np.float32
    assert ds.images.min() >= -1 and ds.images.max() <= 1
    np.testing.assert_allclose(ds.images[:, 0], images / 127.5 - 1, atol=1e-6)
    np.testing.assert_array_equal(ds.labels, labels)
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        data.fashion_mnist(tmp_path, train=False)


def test_digits_split_is_fixed_disjoint_and_stratified():
    train, test, everything = data.digits("train"), data.digits("test"), data.digits("all")
    assert len(train) + len(test) == len(everything) == 1797
    assert train.images.shape[1:] == (1, 8, 8) and train.images.min() == -1 and train.images.max() == 1
    np.testing.assert_array_equal(data.digits("train").images, train.images)  # the same every call
    assert set(np.unique(test.labels)) == set(range(10))
    counts = np.bincount(test.labels) / np.bincount(everything.labels)
    assert np.all(np.abs(counts - 0.2) < 0.02)


@pytest.mark.parametrize("name,modes,std", [("ring8", 8, 0.02), ("grid25", 25, 0.05), ("mixture1d", 3, 0.2)])
def test_toys_sample_around_their_modes(name, modes, std):
    toy = data.toy(name)
    x = toy.sample(4000, 0)
    assert toy.n_modes == modes and toy.std == std
    nearest = np.linalg.norm(x[:, None] - toy.centres[None], axis=2)
    assert np.all(nearest.min(1) < 6 * std)
    assert len(np.unique(nearest.argmin(1))) == modes


def test_toy_sampling_is_seeded_and_unknown_toys_are_named():
    np.testing.assert_array_equal(data.ring8().sample(10, 3), data.ring8().sample(10, 3))
    assert data.spiral().sample(100, 0).shape == (100, 2)
    with pytest.raises(KeyError, match="ring8"):
        data.toy("ring9")


def test_loader_batches_cover_an_epoch_and_resume_exactly():
    x, y = np.arange(20, dtype=np.float32)[:, None], np.arange(20)
    loader = data.DataLoader(x, y, batch_size=6, seed=1)
    seen = np.concatenate([x.numpy()[:, 0] for x, _ in loader])  # batches unpack like tuples
    assert len(loader) == 3 and len(seen) == 18 and len(set(seen)) == 18  # drop_last
    assert len(data.DataLoader(x, batch_size=6, drop_last=False)) == 4
    a = data.DataLoader(x, y, batch_size=6, seed=2)
    for _ in range(4):
        a.next_batch()
    state = a.state_dict()
    after = [a.next_batch().y.numpy() for _ in range(5)]
    b = data.DataLoader(x, y, batch_size=6, seed=99)
    b.load_state_dict(state)
    for expected in after:
        np.testing.assert_array_equal(b.next_batch().y.numpy(), expected)
    with pytest.raises(ValueError, match="labels"):
        data.DataLoader(x, y[:3])


def test_a_batch_names_its_fields_and_unpacks_like_the_tuple_of_those_it_has():
    x, y = np.zeros((4, 2), np.float32), np.arange(4)
    (only_x,) = data.DataLoader(x, batch_size=2).next_batch()
    assert only_x.shape == (2, 2)
    batch = data.DataLoader(x, y, batch_size=2, shuffle=False).next_batch()
    assert len(batch) == 2 and batch.x_b is None
    images, labels = batch
    assert images is batch.x and labels is batch.y and labels.numpy().tolist() == [0, 1]


def test_image_folder_crops_resizes_and_scales(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    for i, size in enumerate([(20, 30), (16, 16)]):
        Image.fromarray(rng.integers(0, 256, (*size, 3)).astype(np.uint8)).save(tmp_path / f"{i}.png")
    ds = data.image_folder(tmp_path, 8, channels=3)
    assert ds.images.shape == (2, 3, 8, 8) and ds.images.min() >= -1 and ds.images.max() <= 1
    assert data.image_folder(tmp_path, 4, channels=1).images.shape == (2, 1, 4, 4)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no images"):
        data.image_folder(tmp_path / "empty", 8)
