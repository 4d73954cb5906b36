import { grid, photos } from "../photos.js";

export const dynamic = "force-dynamic";

// What the CMS's API gave before the contract: the original's URL, in a plain <img src>.
export default function PlainPage() {
  return (
    <main style={grid}>
      {photos().map((photo) => (
        <img key={photo.original} src={photo.original} width={photo.contract.width} height={photo.contract.height} alt={photo.contract.alt} className="photo" style={{ maxWidth: "100%", height: "auto" }} />
      ))}
    </main>
  );
}
