#pragma once
/// Cross-validation folds that keep groups whole (all crops of one patient, smear or slide
/// on the same side), and the ten folds of 5x2 cross-validation.
#include <cstdint>
#include <string>
#include <vector>

#include "hemapath/data/sample.h"

namespace hemapath {

struct DatasetSpec;

/// A group id per sample from `pattern` (ECMAScript regex) searched in the image's file
/// name: the first capture group if the pattern has one, else the whole match. ConfigError
/// naming `option` for an invalid pattern; InputError naming the first file it does not match.
std::vector<std::string> groups_from_regex(const std::vector<Sample>& samples, const std::string& pattern,
                                           const std::string& option = "--group-by");

/// A group id per sample from `group_by`: "column:NAME" reads that column of the spec's label
/// CSV (e.g. column:source, the smear a crop was cut from); anything else is a regex for
/// groups_from_regex. Empty `group_by` gives no groups (one per sample). ConfigError or
/// InputError naming `option` (the flag or config key) and the file or image at fault.
std::vector<std::string> sample_groups(const DatasetSpec& spec, const std::vector<Sample>& samples,
                                       const std::string& group_by, const std::string& option);

/// Deals the samples `indices` picks into parts of the given shares (summing to 1), keeping
/// each group whole: groups are placed largest first (ties in seeded random order) into the
/// part where they bring the per-class counts closest to the part's share of each class. A
/// part with share 0 stays empty; InputError when there are fewer groups than parts with a
/// share. Returns one sorted index list per share.
std::vector<std::vector<size_t>> stratified_group_partition(const std::vector<size_t>& indices,
                                                            const std::vector<int>& labels,
                                                            const std::vector<std::string>& groups,
                                                            const std::vector<double>& shares, uint64_t seed);

/// Stratified k-fold over groups: each group lands whole in one fold; groups are placed
/// largest first (ties in seeded random order) into the fold where they bring the per-class
/// counts closest to an even share. With one group per sample this is an ordinary
/// stratified k-fold. Returns k disjoint test folds covering every index, each sorted.
/// `groups` empty means one group per sample. ConfigError unless 2 <= k <= number of groups.
std::vector<std::vector<size_t>> stratified_group_kfold(const std::vector<int>& labels,
                                                        const std::vector<std::string>& groups, int k,
                                                        uint64_t seed);

/// One replication of 5x2 CV: train on one half, test on the other, then swap.
struct HalfSplit {
  std::vector<size_t> first, second;
};
/// Five independent stratified (grouped, if `groups` is given) halvings, replication r
/// seeded from (seed, r).
std::vector<HalfSplit> five_by_two_splits(const std::vector<int>& labels, const std::vector<std::string>& groups,
                                          uint64_t seed);

}  // namespace hemapath
