namespace Plateau.Collective.Ring;

/// <summary>
/// A neighbour's goodbye (one per neighbour: both may leave before this rank finishes): it left in good order after completing operation
/// <see cref="CompletedSequence"/>, so it had received every piece of that operation and the ones
/// before. A link to it that breaks in its wake is no failure for those operations; the next one
/// that needs it fails with <see cref="Verdict"/>, which names it.
/// </summary>
internal sealed record PeerDeparture(int Rank, ulong CompletedSequence, CollectiveException Verdict)
{
    /// <summary>Whether operation <paramref name="sequence"/> was completed by the leaver before it left.</summary>
    public bool Covers(ulong sequence) => sequence <= CompletedSequence;
}
