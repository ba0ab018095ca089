namespace Plateau.Contracts.Training;

[GenerateSerializer]
public enum EpochPlanStatus
{
    Ready,
    /// <summary>The previous epoch's reports are not all in yet (or the job is paused); ask again shortly.</summary>
    Pending,
    /// <summary>Training is over (epochs or iterations reached, or the job ended): stop.</summary>
    Finished,
}
