#include "hemapath/core/random.h"

#include <torch/torch.h>

namespace hemapath {
namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
}  // namespace

void seed_everything(uint64_t seed) {
  torch::manual_seed(seed);
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(seed);
}

uint64_t derive_seed(uint64_t base, std::initializer_list<uint64_t> stream) {
  uint64_t h = splitmix64(base);
  for (uint64_t s : stream) h = splitmix64(h ^ splitmix64(s + 0x632BE59BD9B4E019ULL));
  return h;
}

}  // namespace hemapath
