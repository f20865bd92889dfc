namespace HappyWhale.Data;

/// <summary>One labelled photo: the image file name (no folder), its species and its individual.</summary>
public sealed record Sample(string Image, string Species, string IndividualId);
