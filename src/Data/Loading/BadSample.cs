namespace Plateau.Data.Loading;

/// <summary>A sample the loader skipped.</summary>
public sealed record BadSample(int Epoch, int Index, string Source, string Reason);
