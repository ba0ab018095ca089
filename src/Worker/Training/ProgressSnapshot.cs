namespace Plateau.Worker.Training;

/// <summary>A rank's pace over the last reporting window.</summary>
public readonly record struct ProgressSnapshot(int Epoch, long GlobalStep, double LearningRate, double ImagesPerSecond, double Loss, double DataWaitShare, double AllReduceShare);
