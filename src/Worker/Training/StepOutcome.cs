namespace Plateau.Worker.Training;

/// <summary>What one step did on this rank: its samples, summed loss and top-1 hits, the group's agreed
/// votes, and where the time went (forward+backward, gradient all-reduce incl. packing, optimizer; of the
/// all-reduce, <see cref="CollectiveWait"/> was spent blocked on the ring; of the compute, <see cref="Forward"/>
/// was the forward pass and loss, timed on the host; <see cref="ExposedCommunication"/>: from the end of backward until
/// every bucket was reduced, what communication did not hide behind backward). <see cref="Skipped"/>: the
/// averaged gradients held NaN or ±Inf, so no rank applied them (every rank sees the same averages).</summary>
public readonly record struct StepOutcome(
    long Samples,
    double LossSum,
    long CorrectTop1,
    StepVotes Votes,
    TimeSpan Compute,
    TimeSpan AllReduce,
    TimeSpan Update,
    TimeSpan CollectiveWait,
    bool Skipped = false,
    TimeSpan Forward = default,
    TimeSpan ExposedCommunication = default,
    int BucketsLaunchedDuringBackward = 0)
{
    /// <summary>The rest of <see cref="Compute"/>: backward (and, on CUDA, whatever forward kernels were still running).</summary>
    public TimeSpan Backward => Compute - Forward;
}
