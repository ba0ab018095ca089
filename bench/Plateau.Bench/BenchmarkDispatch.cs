using System.CommandLine;

namespace Plateau.Bench;

/// <summary>The root <c>plateau-bench</c> command: <c>plateau-bench VERB ...</c>, each benchmark's subcommand built in its own file.</summary>
public static class BenchmarkDispatch
{
    public static RootCommand Build()
    {
        var root = new RootCommand("plateau-bench: Plateau's benchmarks, each beside its baseline (PyTorch, Gloo, iperf3, torchvision) in the same run.");
        root.Subcommands.Add(TrainStepBenchmark.Build());
        root.Subcommands.Add(AllReduceBenchmark.Build());
        root.Subcommands.Add(DistributedStepBenchmark.Build());
        root.Subcommands.Add(DataLoaderBenchmark.Build());
        root.Subcommands.Add(CheckpointBenchmark.Build());
        root.Subcommands.Add(ApiLoadBenchmark.Build());
        root.Subcommands.Add(CoordinatorLoadBenchmark.Build());
        return root;
    }
}
