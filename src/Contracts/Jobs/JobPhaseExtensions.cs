namespace Plateau.Contracts.Jobs;

public static class JobPhaseExtensions
{
    public static bool IsTerminal(this JobPhase phase) =>
        phase is JobPhase.Completed or JobPhase.Failed or JobPhase.Cancelled;
}
