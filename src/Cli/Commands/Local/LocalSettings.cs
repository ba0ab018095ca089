using Plateau.Contracts.Specs;

namespace Plateau.Cli.Commands.Local;

/// <summary>The options of one <c>plateau local</c> run.</summary>
public sealed record LocalSettings(
    string? Data, int Workers, int DevicesPerWorker, string? Model, int Epochs, int Batch, double Lr, double WeightDecay,
    int Patience, double Factor, double Threshold, int SyntheticTrain, int SyntheticValidation, long Seed, int Threads,
    string? SpecFile, string? Dir, bool Plain, bool WorkersGiven, int? MinWorkers = null, int MaxWorkerRestarts = LocalSettings.DefaultMaxWorkerRestarts,
    bool NetworkCheckpoints = false, int? CheckpointEverySteps = null, int MaxCoordinatorRestarts = LocalSettings.DefaultMaxCoordinatorRestarts,
    EvaluationMode? Evaluation = null, bool? DropLast = null, GradientCompression? Compression = null)
{
    /// <summary>Worker processes that die are started again this many times in all (torchrun's <c>--max-restarts</c> default is 0; a local run is meant to finish).</summary>
    public const int DefaultMaxWorkerRestarts = 3;

    /// <summary>Times the coordinator that dies is started again (with every worker): its state and checkpoints are on disk.</summary>
    public const int DefaultMaxCoordinatorRestarts = 3;
}
