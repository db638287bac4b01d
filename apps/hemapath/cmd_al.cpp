// hemapath al: active learning. `simulate` replays it on a labelled set to compare strategies;
// `query`, `import` and `train` run it on a lab's own unlabelled images, cycle after cycle.
#include <cstdio>
#include <memory>
#include <optional>

#include "commands.h"
#include "hemapath/active/labelling_project.h"
#include "hemapath/active/selection_strategy.h"
#include "hemapath/active/simulation.h"
#include "hemapath/core/device.h"
#include "hemapath/core/error.h"
#include "hemapath/io/csv.h"

namespace hemapath::cli {
namespace {

struct SimulateCommand {
  ComputeFlags compute;
  std::string config, out;
  bool resume = false;
  std::optional<int> epochs;
  std::vector<std::string> overrides;
};

void run_simulate(const SimulateCommand& cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  std::vector<std::string> overrides = cmd.overrides;
  if (cmd.epochs) overrides.push_back("train.epochs=" + std::to_string(*cmd.epochs));
  const ActiveConfig config = ActiveConfig::load(cmd.config, overrides);
  SimulationOptions options;
  options.out_dir = cmd.out;
  options.resume = cmd.resume;
  options.device = resolve_device(cmd.compute.device);
  const SimulationResult r = simulate_active_learning(config, options);

  std::printf("pool %zu, test %zu, %.0f s\n\n| arm | parameters | labelled | accuracy | macro-F1 |\n|---|---:|---:|---:|---:|\n",
              r.pool_size, r.test_size, r.seconds);
  for (const CycleSummary& c : summarize_cycles(r.records))
    std::printf("| %s | %s | %.1f%% | %.4f +- %.4f | %.4f +- %.4f |\n", c.arm.c_str(),
                r.parameters[c.arm].dump().c_str(), 100 * c.labelled_fraction, c.accuracy_mean, c.accuracy_std,
                c.macro_f1_mean, c.macro_f1_std);
  std::printf("\ncurves.csv, summary.csv, selections.csv and curves.png in %s\n", cmd.out.c_str());
}

struct QueryCommand {
  ComputeFlags compute;
  QueryOptions options;
};

void run_query(QueryCommand cmd, const GlobalOptions& global) {
  apply_global(global);
  set_threads(cmd.compute.threads);
  cmd.options.device = resolve_device(cmd.compute.device);
  cmd.options.batch_size = cmd.compute.batch_size;
  cmd.options.workers = cmd.compute.workers;
  const QueryResult r = query_labels(cmd.options);
  std::printf("round %d: %zu of %zu unlabelled images to label (%s):\n", r.round, r.items.size(), r.unlabelled,
              cmd.options.strategy.c_str());
  for (size_t i = 0; i < r.items.size() && i < 10; ++i)
    std::printf("  %zu. %s  score %s  predicted %s (%.2f)\n", i + 1, r.items[i].image.c_str(),
                format_number(r.items[i].score, 4).c_str(), r.items[i].predicted.c_str(), r.items[i].probability);
  const std::string folder = cmd.options.project + "/" + r.folder;
  std::printf("fill in %s/to_label.csv (see contact_sheet.png), then: hemapath al import %s/to_label.csv --project %s\n",
              folder.c_str(), folder.c_str(), cmd.options.project.c_str());
}

struct ImportCommand {
  std::string labels, project;
};

struct ProjectTrainCommand {
  ComputeFlags compute;
  std::string project, config;
  std::vector<std::string> overrides;
};

}  // namespace

void setup_al(CLI::App& app, const GlobalOptions& global) {
  CLI::App* al = app.add_subcommand("al", "Active learning: simulate strategies, or query, import and train on your images");
  al->require_subcommand(1);

  auto sim = std::make_shared<SimulateCommand>();
  CLI::App* s = al->add_subcommand("simulate", "Replay active learning on a labelled set: learning curves per strategy");
  s->add_option("--config", sim->config, "Training config with an `active:` section (YAML or JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  s->add_option("--out", sim->out, "Output folder")->required();
  s->add_flag("--resume", sim->resume, "Continue an interrupted simulation in --out, keeping finished runs");
  s->add_option("--epochs", sim->epochs, "Epochs per cycle (overrides train.epochs)")->check(CLI::PositiveNumber);
  s->add_option("--set", sim->overrides, "Override a config value: key.path=value (repeatable)");
  add_compute_flags(*s, sim->compute, false);
  s->callback([sim, &global] { run_simulate(*sim, global); });

  auto query = std::make_shared<QueryCommand>();
  CLI::App* q = al->add_subcommand("query", "Pick the pool images a person should label next");
  q->add_option("--project", query->options.project, "Project folder (created on the first query)")->required();
  q->add_option("--pool", query->options.pool, "Folder of unlabelled cell images (first query)")
      ->check(CLI::ExistingDirectory);
  q->add_option("--model", query->options.model, "Classifier (.hpm) to score with (default: the project's current one)")
      ->check(CLI::ExistingFile);
  q->add_option("--k", query->options.k, "How many images to ask for")->required();
  std::string names;
  for (const auto& n : strategy_names()) names += (names.empty() ? "" : ", ") + n;
  q->add_option("--strategy", query->options.strategy, "One of " + names);
  q->add_option("--subset", query->options.subset, "Score a random subset of this many unlabelled images (0: all)");
  q->add_option("--mc-passes", query->options.mc_passes, "Dropout samples for bald")->check(CLI::Range(2, 1000));
  q->add_option("--seed", query->options.seed, "Seed of random picks and dropout samples");
  add_compute_flags(*q, query->compute, true);
  q->callback([query, &global] { run_query(*query, global); });

  auto import = std::make_shared<ImportCommand>();
  CLI::App* i = al->add_subcommand("import", "Add a person's labels (image,label CSV) to the project");
  i->add_option("labels", import->labels, "CSV with image and label columns (e.g. a filled-in to_label.csv)")
      ->required()
      ->check(CLI::ExistingFile);
  i->add_option("--project", import->project, "Project folder")->required()->check(CLI::ExistingDirectory);
  i->callback([import, &global] {
    apply_global(global);
    const ImportResult r = import_labels(import->project, import->labels);
    std::printf("%zu labels added, %zu changed, %zu unchanged, %zu rows left blank; %zu images labelled\n", r.added,
                r.changed, r.unchanged, r.blank, r.labelled);
  });

  auto train = std::make_shared<ProjectTrainCommand>();
  CLI::App* t = al->add_subcommand("train", "Train the project's next model on its labelled images");
  t->add_option("--project", train->project, "Project folder")->required()->check(CLI::ExistingDirectory);
  t->add_option("--config", train->config, "Training config (its data section is filled in by the project)")
      ->required()
      ->check(CLI::ExistingFile);
  t->add_option("--set", train->overrides, "Override a config value: key.path=value (repeatable)");
  add_compute_flags(*t, train->compute, false);
  t->callback([train, &global] {
    apply_global(global);
    set_threads(train->compute.threads);
    const TrainResult r =
        train_project_model(train->project, train->config, train->overrides, resolve_device(train->compute.device));
    std::printf("trained on %zu images (%zu val): best epoch %d, %s\n", r.train_size, r.val_size, r.best_epoch,
                r.best_model.c_str());
  });
}

}  // namespace hemapath::cli
