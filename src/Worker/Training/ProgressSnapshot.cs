namespace Plateau.Worker.Training;

/// <summary>A rank's pace over the last reporting window. <see cref="OwnSecondsPerStep"/>: the mean time of
/// a step spent on this rank's own work (data, compute, packing, update), i.e. not blocked on the ring.</summary>
public readonly record struct ProgressSnapshot(int Epoch, long GlobalStep, double LearningRate, double ImagesPerSecond, double Loss, double DataWaitShare, double AllReduceShare, double OwnSecondsPerStep = 0);
