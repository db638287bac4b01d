// hemapath stain: fit a stain normaliser (Macenko or Reinhard) to a reference image and save it
// as the small JSON that training (data.stain) and slide segmentation (--stain) read.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "hemapath/image/stain_normalization.h"
#include "hemapath/io/image_io.h"

namespace hemapath::cli {
namespace {

struct StainCommand {
  std::string reference, method = "macenko", out, apply, apply_out;
};

void run_stain(const StainCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  const StainNormalizer normalizer = StainNormalizer::fit(cmd.method, read_image_rgb(cmd.reference));
  cv::Mat normalised;
  if (!cmd.apply.empty()) normalised = normalizer.apply(read_image_rgb(cmd.apply));  // checked before writing
  normalizer.save(cmd.out);
  std::printf("%s normaliser fitted to %s: %s\n", cmd.method.c_str(), cmd.reference.c_str(), cmd.out.c_str());
  if (!cmd.apply.empty()) {
    write_image(cmd.apply_out, normalised);
    std::printf("%s normalised: %s\n", cmd.apply.c_str(), cmd.apply_out.c_str());
  }
}

}  // namespace

void setup_stain(CLI::App& app, const GlobalOptions& global) {
  auto cmd = std::make_shared<StainCommand>();
  CLI::App* sub = app.add_subcommand("stain", "Fit a stain normaliser (Macenko, Reinhard) to a reference image");
  sub->add_option("reference", cmd->reference, "Reference image (RGB) whose stain appearance is the target")
      ->required();
  sub->add_option("--method", cmd->method, "macenko or reinhard")->check(CLI::IsMember({"macenko", "reinhard"}));
  sub->add_option("--out", cmd->out, "Normaliser JSON to write (data.stain, slide segment --stain)")->required();
  auto* apply = sub->add_option("--apply", cmd->apply, "Also normalise this image ...");
  sub->add_option("--apply-out", cmd->apply_out, "... into this file")->needs(apply);
  apply->needs(sub->get_option("--apply-out"));
  sub->callback([cmd, &global] { run_stain(*cmd, global); });
}

}  // namespace hemapath::cli
