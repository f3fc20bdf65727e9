// The region map: boundary, roads, communes and sites from the service, the patient,
// the destination and the routes of an answer. Leaflet is served by the service itself;
// without it the map panel says so and the rest of the page works.
"use strict";

const RMap = (() => {
  const ROAD_STYLE = {
    motorway: { color: "#b03a2e", weight: 3 },
    trunk: { color: "#ca6f1e", weight: 2.5 },
    primary: { color: "#d4ac0d", weight: 2 },
    secondary: { color: "#7f8c8d", weight: 1.5 },
  };
  const SITE_MARK = { cath_lab: "C", cath_lab_unconfirmed: "c", smur: "S", heli: "H" };

  function siteIcon(roles) {
    const main = roles.includes("cath_lab") ? "cath_lab" : roles.includes("cath_lab_unconfirmed") ? "cath_lab_unconfirmed" : roles[0];
    const marks = roles.map((role) => SITE_MARK[role]).join("");
    return L.divIcon({ className: `site-icon site-${main}`, html: `<span>${marks}</span>`, iconSize: null });
  }

  function siteTitle(properties) {
    const lines = [properties.name];
    for (const role of properties.roles) {
      const key = { cath_lab: "web.map.cath_lab", cath_lab_unconfirmed: "web.map.cath_lab_unconfirmed", smur: "web.map.smur", heli: "web.map.heli" }[role];
      lines.push(R.t(key));
    }
    return lines.join(" · ");
  }

  // Return the [lat, lon] points, in Leaflet's order, of an answer's [lon, lat] line.
  function linePoints(line) {
    return Array.isArray(line) && line.length > 1 ? line.map(([lon, lat]) => [lat, lon]) : null;
  }

  function create(container, { onClick } = {}) {
    if (typeof L === "undefined") {
      container.classList.add("map-missing");
      container.replaceChildren(R.element("p", { "data-t": "web.map.unavailable", text: R.t("web.map.unavailable") }));
      return null;
    }

    const map = L.map(container, { preferCanvas: true, zoomSnap: 0.25, keyboard: true });
    map.attributionControl.setPrefix(false);
    const answerLayer = L.layerGroup().addTo(map);
    let patient = null;

    R.api("/api/v1/map/layers")
      .then(({ ok, status, data }) => {
        if (!ok) throw new Error(R.errorMessage(data, status));
        map.fitBounds(data.bounds);
        L.geoJSON(data.boundary, { style: { color: "#34495e", weight: 2, fill: true, fillColor: "#f4f6f7", fillOpacity: 0.5 }, interactive: false }).addTo(map);
        L.geoJSON(data.roads, {
          interactive: false,
          style: (feature) => ({
            ...(ROAD_STYLE[feature.properties.class] || { color: "#95a5a6", weight: 1 }),
            dashArray: feature.properties.seasonal ? "4 4" : null,
          }),
        }).addTo(map);
        L.geoJSON(data.communes, {
          pointToLayer: (feature, latlng) =>
            L.circleMarker(latlng, { radius: feature.properties.population > 10000 ? 3 : 1.5, color: "#566573", weight: 1, fillOpacity: 0.6 }).bindTooltip(
              `${feature.properties.name} (${feature.properties.departement})`,
            ),
        }).addTo(map);
        L.geoJSON(data.sites, {
          pointToLayer: (feature, latlng) => L.marker(latlng, { icon: siteIcon(feature.properties.roles), keyboard: false, title: siteTitle(feature.properties) }),
        }).addTo(map);
      })
      .catch((error) => {
        container.append(R.element("p", { class: "map-error", role: "alert", text: R.t("web.map.layers_failed", { message: error.message }) }));
      });

    if (onClick) map.on("click", (event) => onClick(event.latlng.lat, event.latlng.lng));

    function setPatient(lat, lon) {
      if (patient) patient.remove();
      patient = L.circleMarker([lat, lon], { radius: 9, color: "#000", weight: 3, fillColor: "#e74c3c", fillOpacity: 1 })
        .bindTooltip(R.t("web.map.patient"))
        .addTo(map);
    }

    function showAnswer(answer) {
      answerLayer.clearLayers();
      const patientAt = [answer.patient.lat, answer.patient.lon];
      setPatient(...patientAt);
      const bounds = L.latLngBounds([patientAt]);

      const geometry = answer.geometry || {};
      const route = linePoints(geometry.road);
      const flight = linePoints(geometry.flight);
      // The number of points drawn, for tests: the canvas renderer leaves no element per line.
      container.dataset.routePoints = route ? route.length : 0;
      container.dataset.flightPoints = flight ? flight.length : 0;
      if (route) {
        L.polyline(route, { color: "#1f618d", weight: 5, opacity: 0.85 }).bindTooltip(R.t("web.map.route")).addTo(answerLayer);
        bounds.extend(route);
      }
      if (flight) {
        L.polyline(flight, { color: "#7d3c98", weight: 3, dashArray: "8 6" }).bindTooltip(R.t("web.map.flight")).addTo(answerLayer);
        bounds.extend(flight);
      }
      if (answer.destination) {
        const at = [answer.destination.lat, answer.destination.lon];
        L.circleMarker(at, { radius: 12, color: "#1e8449", weight: 4, fill: false }).bindTooltip(answer.destination.name).addTo(answerLayer);
        bounds.extend(at);
      }
      map.fitBounds(bounds, { padding: [30, 30], maxZoom: 11 });
    }

    // Remove the previous answer's route, flight line and destination; the patient stays.
    function clearAnswer() {
      answerLayer.clearLayers();
      container.dataset.routePoints = 0;
      container.dataset.flightPoints = 0;
    }

    return { map, setPatient, showAnswer, clearAnswer, invalidate: () => map.invalidateSize() };
  }

  return { create };
})();
