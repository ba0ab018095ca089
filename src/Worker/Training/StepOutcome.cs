namespace Plateau.Worker.Training;

/// <summary>What one step did on this rank: its samples, summed loss and top-1 hits, the group's agreed
/// votes, and where the time went (forward+backward, gradient all-reduce incl. packing, optimizer; of the
/// all-reduce, <see cref="CollectiveWait"/> was spent blocked on the ring).</summary>
public readonly record struct StepOutcome(
    long Samples,
    double LossSum,
    long CorrectTop1,
    StepVotes Votes,
    TimeSpan Compute,
    TimeSpan AllReduce,
    TimeSpan Update,
    TimeSpan CollectiveWait);
