namespace Plateau.Contracts.Training;

[GenerateSerializer]
public enum WorkerDirective
{
    Continue,
    Pause,
    /// <summary>Stop training this generation (cancelled, failed, completed).</summary>
    Stop,
}
