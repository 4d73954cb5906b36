import Image from "next/image";

import { grid, photos, sizes } from "../photos.js";

export const dynamic = "force-dynamic";

// The Next.js starter's way: the CMS's 1920 px WebP through next/image, which re-encodes it on the app host.
export default function NextImagePage() {
  return (
    <main style={grid}>
      {photos().map((photo) => (
        <Image key={photo.webp1920} src={photo.webp1920} width={photo.contract.width} height={photo.contract.height} alt={photo.contract.alt} sizes={sizes} className="photo" style={{ maxWidth: "100%", height: "auto" }} />
      ))}
    </main>
  );
}
