using Orleans.Placement;

namespace Plateau.Contracts.Workers;

/// <summary>Marks a grain class placed by <see cref="OwningWorkerPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class OwningWorkerPlacementAttribute() : PlacementAttribute(OwningWorkerPlacement.Singleton);
