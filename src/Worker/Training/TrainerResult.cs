namespace Plateau.Worker.Training;

/// <summary>The end of one trainer run: how, why, and where it got to.</summary>
public sealed record TrainerResult(TrainerOutcome Outcome, string Message, int Epoch, long GlobalStep);
