import { Picture } from "@imgopt/images/react";

import { grid, photos, sizes } from "../photos.js";

export const dynamic = "force-dynamic";

export default function ContractPage() {
  return (
    <main style={grid}>
      {photos().map((photo, index) => (
        <Picture key={photo.contract.src} image={photo.contract} sizes={sizes} loading={index < 2 ? "eager" : "lazy"} className="photo" />
      ))}
    </main>
  );
}
