namespace Plateau.Bench;

/// <summary>Routes <c>plateau-bench VERB ...</c> to one benchmark; each benchmark lives in its own file.</summary>
public static class BenchmarkDispatch
{
    private static readonly Dictionary<string, (string Summary, Func<string[], int> Run)> Verbs = new(StringComparer.Ordinal)
    {
        // One line per benchmark: ["verb"] = ("what it measures", XBenchmark.Run),
        ["train"] = ("CPU training step vs PyTorch", TrainStepBenchmark.Run),
        ["allreduce"] = ("ring all-reduce over gRPC between processes vs Gloo and iperf3", AllReduceBenchmark.Run),
        ["step"] = ("distributed trainer step (bucketed all-reduce over gRPC) vs the bare TorchSharp loop", DistributedStepBenchmark.Run),
        ["data"] = ("JPEG decode + paper train transform into batches vs torchvision", DataLoaderBenchmark.Run),
    };

    public static int Run(string[] args)
    {
        if (args.Length == 0 || !Verbs.TryGetValue(args[0], out var verb))
        {
            Console.Error.WriteLine("usage: plateau-bench <verb> [options]");
            foreach (var (name, (summary, _)) in Verbs.OrderBy(v => v.Key, StringComparer.Ordinal))
            {
                Console.Error.WriteLine($"  {name,-10} {summary}");
            }
            return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
        }
        return verb.Run(args[1..]);
    }
}
