namespace Plateau.Worker.Training;

/// <summary>Where training continues from a checkpoint: the epoch, the samples of its order already consumed and the global step.</summary>
public sealed record CheckpointPosition(string JobId, long Generation, int Epoch, long Cursor, long GlobalStep);
