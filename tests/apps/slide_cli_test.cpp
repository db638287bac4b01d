// `hemapath info` and `hemapath slide tile|segment` as a user meets them on the real slides:
// every readable slide described and tiled, the broken ones refused with the file named and
// nothing written, mask tiles from GeoJSON polygons, context patches at a coarser mpp.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "hemapath/io/csv.h"
#include "hemapath/io/image_io.h"
#include "hemapath/io/slide_reader.h"
#include "test_support.h"

namespace hemapath {
namespace {
namespace fs = std::filesystem;
using test::contains;
using test::run_cli;

std::string slide(const std::string& name) { return "'" + (test::shared_data() / "slides" / name).string() + "'"; }

int csv_rows(const fs::path& path) {
  const std::string text = test::read_text(path);
  return static_cast<int>(std::count(text.begin(), text.end(), '\n')) - 1;
}

TEST(SlideCli, InfoDescribesEverySlideAndNamesTheBrokenOnes) {
  for (const char* name : {"CMU-1-Small-Region.svs", "TCGA-CR-7395-01A-01-TS1.svs", "boxes.tiff", "small.svs"}) {
    const auto r = run_cli("info " + slide(name));
    EXPECT_EQ(r.exit_code, 0) << name << ": " << r.output;
    EXPECT_TRUE(contains(r.output, "level 0")) << r.output;
  }
  for (const char* name : {"unopenable.tiff", "unreadable.svs"}) {
    const auto r = run_cli("info " + slide(name));
    EXPECT_EQ(r.exit_code, 2) << name;
    EXPECT_TRUE(contains(r.output, name)) << r.output;
  }
}

TEST(SlideCli, TilesEveryReadableSlide) {
  test::ScratchDir dir;
  struct Case {
    const char* name;
    const char* flags;
  };
  for (const Case& c : {Case{"CMU-1-Small-Region.svs", "--mpp 1 --size 256 --overlap 32"},
                        Case{"TCGA-CR-7395-01A-01-TS1.svs", "--slide-mpp 0.5 --mpp 2 --size 256"},
                        Case{"boxes.tiff", "--slide-mpp 1 --mpp 2 --size 64 --min-tissue 0"},
                        Case{"small.svs", "--size 8 --min-tissue 0"}}) {
    const fs::path out = dir.path() / c.name;
    const auto r = run_cli("slide tile " + slide(c.name) + " " + c.flags + " --out '" + out.string() + "'");
    ASSERT_EQ(r.exit_code, 0) << c.name << ": " << r.output;
    const int rows = csv_rows(out / "tiles.csv");
    EXPECT_GT(rows, 0) << c.name;
    EXPECT_EQ(static_cast<int>(std::distance(fs::directory_iterator(out / "tiles"), fs::directory_iterator{})), rows);
    EXPECT_TRUE(fs::exists(out / "tissue.png"));
    const cv::Mat first = read_image_rgb((*fs::directory_iterator(out / "tiles")).path().string());
    const int size = std::string(c.name) == "small.svs" ? 8 : std::string(c.name) == "boxes.tiff" ? 64 : 256;
    EXPECT_EQ(first.size(), cv::Size(size, size)) << c.name;
  }
  // CMU-1 at 1 um/px: 2220 x 2967 px at 0.499 -> 1108 x 1481 px; 256 px tiles 224 apart.
  const std::string cmu = test::read_text(dir.path() / "CMU-1-Small-Region.svs" / "tiles.csv");
  EXPECT_TRUE(contains(cmu, "index,col,row,x,y,width,height,mpp,tissue,image")) << cmu.substr(0, 200);
  for (const char* name : {"unopenable.tiff", "unreadable.svs"}) {
    const fs::path out = dir.path() / name;
    const auto r = run_cli("slide tile " + slide(name) + " --out '" + out.string() + "'");
    EXPECT_EQ(r.exit_code, 2) << name << ": " << r.output;
    EXPECT_TRUE(contains(r.output, name)) << r.output;
    EXPECT_FALSE(fs::exists(out));
  }
  // A slide without a resolution needs one.
  const auto r = run_cli("slide tile " + slide("boxes.tiff") + " --out '" + (dir / "nompp") + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.output, "--slide-mpp")) << r.output;
  EXPECT_FALSE(fs::exists(dir.path() / "nompp"));
}

TEST(SlideCli, MaskTilesFromGeoJsonAndContextPatches) {
  test::ScratchDir dir;
  // A tumour square (level-0 px 400..1200) with a necrosis hole, over CMU-1 (0.499 um/px).
  test::write_file(dir / "shapes.geojson", R"({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"classification": {"name": "tumour"}},
     "geometry": {"type": "Polygon", "coordinates": [[[400, 400], [1200, 400], [1200, 1200], [400, 1200], [400, 400]],
                                                     [[700, 700], [900, 700], [900, 900], [700, 900], [700, 700]]]}},
    {"type": "Feature", "properties": {"classification": {"name": "necrosis"}},
     "geometry": {"type": "Polygon", "coordinates": [[[700, 700], [900, 700], [900, 900], [700, 900], [700, 700]]]}}]})");
  const fs::path out = dir.path() / "tiles";
  const auto r = run_cli("slide tile " + slide("CMU-1-Small-Region.svs") + " --mpp 0.998 --size 200 --min-tissue 0" +
                         " --annotation '" + (dir / "shapes.geojson") + "' --classes tumour,necrosis" +
                         " --context-mpp 3.992 --context-size 100 --out '" + out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "1=tumour 2=necrosis")) << r.output;
  // Tile (row 1, col 1) starts at 200 grid px = level-0 400 (downsample 2): its px i has its
  // centre at level-0 401 + 2i, so it is tumour from i = 0 and necrosis for i = 150..199.
  const cv::Mat mask = read_mask((out / "masks" / "1_1.png").string());
  ASSERT_EQ(mask.size(), cv::Size(200, 200));
  EXPECT_EQ(mask.at<uint8_t>(0, 0), 1);
  EXPECT_EQ(mask.at<uint8_t>(125, 125), 1);
  EXPECT_EQ(mask.at<uint8_t>(149, 175), 1);
  EXPECT_EQ(mask.at<uint8_t>(175, 175), 2) << "the hole holds the necrosis drawn after it";
  EXPECT_EQ(mask.at<uint8_t>(199, 150), 2);
  const cv::Mat first = read_mask((out / "masks" / "0_0.png").string());
  EXPECT_EQ(first.at<uint8_t>(199, 199), 0) << "centre 399 lies left of the square (400)";
  const cv::Mat context = read_image_rgb((out / "context" / "1_1.png").string());
  EXPECT_EQ(context.size(), cv::Size(100, 100));
}

TEST(SlideCli, SegmentRefusesBadModelsAndSlides) {
  test::ScratchDir dir;
  auto r = run_cli("slide segment " + slide("CMU-1-Small-Region.svs") + " --model '" + (dir / "none.hpm") + "' --out '" +
                   (dir / "a") + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.output, "none.hpm")) << r.output;
  r = run_cli("slide segment " + slide("unreadable.svs") + " --model x.hpm --out '" + (dir / "b") + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir.path() / "a"));
  EXPECT_FALSE(fs::exists(dir.path() / "b"));
}

}  // namespace
}  // namespace hemapath

namespace hemapath {
namespace {

TEST(StainCli, FitsSavesAndAppliesANormaliser) {
  test::ScratchDir dir;
  const SlideReader cmu((test::shared_data() / "slides" / "CMU-1-Small-Region.svs").string());
  write_image(dir / "reference.png", cmu.read_region(0, 800, 1200, 300, 300));
  cv::Mat other = cmu.read_region(0, 1200, 600, 200, 200);
  other.convertTo(other, -1, 0.8, 10);  // another scanner's stain strength
  write_image(dir / "other.png", other);
  const auto r = test::run_cli("stain '" + (dir / "reference.png") + "' --method macenko --out '" + (dir / "stain.json") +
                               "' --apply '" + (dir / "other.png") + "' --apply-out '" + (dir / "other_norm.png") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(test::read_json(dir.path() / "stain.json")["method"], "macenko");
  EXPECT_EQ(read_image_rgb(dir / "other_norm.png").size(), other.size());
  // A blank reference has no stain to learn: exit 2, the reason, nothing written.
  write_image(dir / "blank.png", cv::Mat(64, 64, CV_8UC3, cv::Scalar(250, 250, 250)));
  const auto bad = test::run_cli("stain '" + (dir / "blank.png") + "' --out '" + (dir / "blank.json") + "'");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_TRUE(contains(bad.output, "tissue")) << bad.output;
  EXPECT_FALSE(fs::exists(dir.path() / "blank.json"));
}

}  // namespace
}  // namespace hemapath
