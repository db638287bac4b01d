#include <gtest/gtest.h>

#include <map>

#include "hemapath/core/error.h"
#include "hemapath/data/batch_loader.h"
#include "hemapath/io/label_table.h"

namespace hemapath {
namespace {

const std::string kRoot = std::string(HEMAPATH_SHARED_DATA) + "/wbc-bccd/";

// The first `n` labelled BCCD images with their masks; classes numbered by first sight.
std::vector<Sample> bccd_samples(size_t n) {
  const LabelTable t = read_label_csv(kRoot + "labels.csv", kRoot + "images");
  std::map<std::string, int> classes;
  std::vector<Sample> out;
  for (size_t i = 0; i < n && i < t.items.size(); ++i) {
    const auto& item = t.items[i];
    const std::string stem = item.image_path.substr(item.image_path.rfind('/') + 1);
    const std::string mask = kRoot + "masks/" + stem.substr(0, stem.rfind('.')) + ".png";
    const int label = classes.emplace(item.label, int(classes.size())).first->second;
    out.push_back({item.image_path, mask, label});
  }
  return out;
}

ClassificationDataOptions small_options() {
  ClassificationDataOptions o;
  o.crop.size = 48;
  o.augment.rotate_degrees = 20;
  o.augment.brightness = 0.2;
  o.augment.hed_sigma = 0.03;
  return o;
}

std::vector<Batch> drain(BatchLoader& loader) {
  std::vector<Batch> out;
  while (auto b = loader.next()) out.push_back(std::move(*b));
  return out;
}

TEST(ClassificationDataset, CropsAreCachedAndSized) {
  ClassificationDataset ds(bccd_samples(6), small_options());
  ASSERT_EQ(ds.size(), 6u);
  ds.preload(3);
  const cv::Mat& a = ds.crop(2);
  EXPECT_EQ(a.size(), cv::Size(48, 48));
  EXPECT_EQ(a.type(), CV_8UC3);
  EXPECT_EQ(&ds.crop(2), &a);
  EXPECT_EQ(ds.crop(2).data, a.data);
  const torch::Tensor plain = ds.image(2, false, 0);
  EXPECT_EQ(plain.sizes(), (std::vector<int64_t>{3, 48, 48}));
  EXPECT_GE(plain.min().item<float>(), 0.0f);
  EXPECT_LE(plain.max().item<float>(), 1.0f);
  EXPECT_TRUE(torch::equal(ds.image(2, true, 5), ds.image(2, true, 5)));
  EXPECT_FALSE(torch::equal(ds.image(2, true, 5), plain));

  // No mask: the whole image is fitted.
  ClassificationDataset whole({{ds.sample(0).image_path, "", 0}}, small_options());
  EXPECT_EQ(whole.crop(0).size(), cv::Size(48, 48));
}

TEST(BatchLoader, ShapesLabelsAndOrder) {
  ClassificationDataset ds(bccd_samples(8), small_options());
  const std::vector<size_t> order{7, 6, 5, 4, 3, 2, 1, 0};
  BatchLoader loader(ds, order, 3, false, 1, 0, 2);
  EXPECT_EQ(loader.num_batches(), 3u);
  const auto batches = drain(loader);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[0].images.sizes(), (std::vector<int64_t>{3, 3, 48, 48}));
  EXPECT_EQ(batches[2].images.sizes(), (std::vector<int64_t>{2, 3, 48, 48}));
  EXPECT_EQ(batches[0].labels.dtype(), torch::kInt64);
  size_t pos = 0;
  for (const auto& b : batches)
    for (int64_t j = 0; j < b.labels.size(0); ++j, ++pos) {
      EXPECT_EQ(b.indices[j], order[pos]);
      EXPECT_EQ(b.labels[j].item<int64_t>(), ds.sample(order[pos]).label);
      EXPECT_TRUE(torch::equal(b.images[j], ds.image(order[pos], false, 0)));
    }
  EXPECT_EQ(pos, 8u);
  BatchLoader dropping(ds, order, 3, false, 1, 0, 2, true);
  EXPECT_EQ(dropping.num_batches(), 2u);
  EXPECT_EQ(drain(dropping).size(), 2u);
  EXPECT_THROW(BatchLoader(ds, {0, 8}, 2, false, 1, 0, 1), InputError);
}

TEST(BatchLoader, IdenticalWhateverTheWorkerCount) {
  ClassificationDataset ds(bccd_samples(8), small_options());
  const std::vector<size_t> order{3, 1, 4, 0, 5, 2, 6, 7};
  BatchLoader one(ds, order, 2, true, 99, 3, 1);
  BatchLoader three(ds, order, 2, true, 99, 3, 3);
  BatchLoader inline_loader(ds, order, 2, true, 99, 3, 0);
  BatchLoader other_epoch(ds, order, 2, true, 99, 4, 3);
  const auto a = drain(one), b = drain(three), c = drain(inline_loader), d = drain(other_epoch);
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  ASSERT_EQ(c.size(), 4u);
  bool any_differs = false;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_TRUE(torch::equal(a[i].images, b[i].images)) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].images, c[i].images)) << "batch " << i;
    EXPECT_TRUE(torch::equal(a[i].labels, b[i].labels));
    any_differs = any_differs || !torch::equal(a[i].images, d[i].images);
  }
  EXPECT_TRUE(any_differs);  // another epoch draws other augmentations
}

TEST(BatchLoader, PartsOfABatchAreItsRowsAugmentedAlike) {
  ClassificationDataset ds(bccd_samples(7), small_options());
  const std::vector<size_t> order{3, 1, 4, 0, 5, 2, 6};
  BatchLoader whole(ds, order, 5, true, 11, 2, 1);
  BatchLoader first(ds, order, 5, true, 11, 2, 2, false, {0, 2});
  BatchLoader second(ds, order, 5, true, 11, 2, 0, false, {1, 2});
  const auto w = drain(whole), a = drain(first), b = drain(second);
  ASSERT_EQ(w.size(), 2u);  // 5 + 2 rows
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(a[0].images.size(0), 2);  // rows 0-1 of 5, then 2-4
  EXPECT_EQ(b[0].images.size(0), 3);
  EXPECT_EQ(a[1].images.size(0), 1);
  for (size_t i = 0; i < w.size(); ++i) {
    EXPECT_TRUE(torch::equal(torch::cat({a[i].images, b[i].images}), w[i].images)) << "batch " << i;
    EXPECT_TRUE(torch::equal(torch::cat({a[i].labels, b[i].labels}), w[i].labels)) << "batch " << i;
  }
  EXPECT_EQ(part_bounds(10, {2, 3}), std::make_pair(size_t(6), size_t(10)));
  // A last batch of one row cannot give two parts a row each.
  EXPECT_THROW(BatchLoader(ds, {0, 1, 2}, 2, false, 1, 0, 0, false, {1, 2}), InputError);
  EXPECT_THROW(BatchLoader(ds, order, 2, false, 1, 0, 0, false, {2, 2}), InputError);
}

TEST(BatchLoader, MissingImageSurfacesFromNextNamingTheFile) {
  auto samples = bccd_samples(6);
  samples[4].image_path = kRoot + "images/NoSuchImage_123.jpg";
  ClassificationDataset ds(samples, small_options());
  BatchLoader loader(ds, {0, 1, 2, 3, 4, 5}, 2, true, 1, 0, 2);
  ASSERT_TRUE(loader.next().has_value());
  ASSERT_TRUE(loader.next().has_value());
  try {
    loader.next();
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("NoSuchImage_123.jpg"), std::string::npos) << e.what();
  }
  EXPECT_THROW(ds.preload(2), InputError);
}

TEST(BatchLoader, DestroyedEarlyDoesNotHang) {
  ClassificationDataset ds(bccd_samples(8), small_options());
  std::vector<size_t> order;
  for (int r = 0; r < 5; ++r)
    for (size_t i = 0; i < 8; ++i) order.push_back(i);
  {
    BatchLoader loader(ds, order, 1, true, 1, 0, 3);
    ASSERT_TRUE(loader.next().has_value());
  }
  { BatchLoader untouched(ds, order, 1, true, 1, 0, 3); }
  SUCCEED();
}

}  // namespace
}  // namespace hemapath
