namespace Plateau.Contracts.Rendezvous;

[GenerateSerializer]
public enum RendezvousStatus
{
    /// <summary>Registered; the group forms when enough workers joined.</summary>
    Waiting,
    /// <summary>The group formed with this worker; assignments go to its WorkerGrains.</summary>
    Formed,
    /// <summary>Registered but not in the running group (late, or beyond max); used at the next re-formation.</summary>
    Standby,
    /// <summary>Refused (job finished, dataset mismatch, bad registration); see the message.</summary>
    Rejected,
}
